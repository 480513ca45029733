// MLS's only script of its own. The Content-Security-Policy refuses inline handlers (onsubmit=...), so a form
// that must be confirmed says so in data-confirm and this asks; delegated, so forms swapped in by htmx are covered.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
