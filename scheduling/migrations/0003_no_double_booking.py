"""PostgreSQL refuses double booking itself: an instructor, or a room, holds at most one occupying session at a
time. (SQLite, the zero-config run path, relies on the same check in scheduling.services.)"""

from django.db import migrations

from mls.postgres import postgres_only

FORWARD = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_sessioninstructor ADD CONSTRAINT scheduling_instructor_not_double_booked
    EXCLUDE USING gist (
        organization_id WITH =, instructor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (occupies);
ALTER TABLE scheduling_session ADD CONSTRAINT scheduling_room_not_double_booked
    EXCLUDE USING gist (
        organization_id WITH =, room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (room_id IS NOT NULL AND status IN ('confirmed', 'delivered'));
"""

BACKWARD = """
ALTER TABLE scheduling_session DROP CONSTRAINT IF EXISTS scheduling_room_not_double_booked;
ALTER TABLE scheduling_sessioninstructor DROP CONSTRAINT IF EXISTS scheduling_instructor_not_double_booked;
"""


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_initial")]

    operations = [postgres_only(FORWARD, BACKWARD)]
