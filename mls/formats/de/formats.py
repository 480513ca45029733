"""German: "3. Februar 2027" (Django's DATE_FORMAT), "03.02.2027 14:30", "3. Feb."."""

SHORT_DATETIME_FORMAT = "d.m.Y H:i"
MONTH_DAY_FORMAT = "j. M"
