-- A lease on a running job, so that two processes on one database never run its
-- steps at once: the process that holds it (lease_owner, a random id per lifecycle
-- Manager) until lease_until (Unix ns) renews it while it runs and clears it at the
-- end; another takes it over only once it has expired (its holder crashed).
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
