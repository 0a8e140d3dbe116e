-- An operator credential may be scoped to one fleet: it then acts only on that
-- fleet's records (docs/api.md, "Fleet-scoped credentials"). NULL: every fleet.
-- Agent credentials never carry it (the store refuses one that does).
ALTER TABLE credentials ADD COLUMN fleet_id TEXT REFERENCES fleets (id);
