-- PostgreSQL twin of the SQLite migration of the same number.
-- An operator credential may be scoped to one fleet: it then acts only on that
-- fleet's records (docs/api.md, "Fleet-scoped credentials"). NULL: every fleet.
-- Agent credentials never carry it.
ALTER TABLE credentials ADD COLUMN fleet_id TEXT REFERENCES fleets (id);
ALTER TABLE credentials ADD CONSTRAINT credential_fleet_operator CHECK (fleet_id IS NULL OR kind = 'operator');
