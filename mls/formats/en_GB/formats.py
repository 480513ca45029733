"""British English: "3 Feb 2027" (Django's DATE_FORMAT), "3 Feb 2027 14:30", "3 Feb"."""

SHORT_DATETIME_FORMAT = "j M Y H:i"
MONTH_DAY_FORMAT = "j M"
