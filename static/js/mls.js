// MLS's only script of its own. The Content-Security-Policy refuses inline handlers (onsubmit=...), so a form
// that must be confirmed says so in data-confirm and this asks; delegated, so forms swapped in by htmx are covered.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Fields that apply to some modalities only (data-modalities="ilt vilt" on the input): hidden and disabled for the
// others, so their stale values are not sent. The server refuses them too, for when this script does not run.
function showFieldsForModality(select) {
  const form = select.form;
  form.querySelectorAll("[data-modalities]").forEach((input) => {
    const applies = input.dataset.modalities.split(" ").includes(select.value);
    const field = input.closest(".field") || input;
    field.hidden = !applies;
    input.disabled = !applies;
  });
}
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("select[name=modality]")) {
    showFieldsForModality(event.target);
  }
});
document.querySelectorAll("select[name=modality]").forEach(showFieldsForModality);

// A table wider than the page scrolls inside its .table-wrap; the wrapper then says so (data-overflows="true"
// shows a "scroll for more" cue and edge shadows in mls.css), so no column hides without a hint.
function markOverflowingTables() {
  document.querySelectorAll(".table-wrap").forEach((wrap) => {
    wrap.dataset.overflows = String(wrap.scrollWidth > wrap.clientWidth + 1);
  });
}
window.addEventListener("resize", markOverflowingTables);
document.addEventListener("htmx:afterSettle", markOverflowingTables);
markOverflowingTables();
// A table by month (the SLA scorecard) opens scrolled to its latest month, which is what the page is read for.
document.querySelectorAll('.table-wrap[data-start="end"]').forEach((wrap) => {
  wrap.scrollLeft = wrap.scrollWidth;
});

// The wizard's SLA targets: the allocation total follows what is typed and ticked (the server shows it too).
function updateAllocationTotal(table) {
  let total = 0;
  table.querySelectorAll("tbody tr").forEach((row) => {
    const keep = row.querySelector("input[type=checkbox]");
    const allocation = row.querySelector("input[name$=_allocation]");
    const value = allocation ? parseFloat(allocation.value) : NaN;
    if (keep && keep.checked && !Number.isNaN(value)) {
      total += value;
    }
  });
  const shown = document.getElementById("allocation-total-value");
  if (shown) {
    shown.textContent = `${Math.round(total * 100) / 100} %`;
  }
}
document.addEventListener("input", (event) => {
  const table = event.target.closest && event.target.closest(".wizard-targets");
  if (table) {
    updateAllocationTotal(table);
  }
});
