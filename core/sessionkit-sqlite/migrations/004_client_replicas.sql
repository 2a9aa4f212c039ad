-- Schema version 4: the sync client's replicas (its session token, the server's state as last
-- acknowledged, the queue of local changes), one record per client key, replaced whole at a
-- growing revision. Used by the client on a device; a server's database leaves it empty.
CREATE TABLE client_replicas (
    key      TEXT    NOT NULL PRIMARY KEY,
    revision INTEGER NOT NULL CHECK (typeof(revision) = 'integer' AND revision >= 0),
    record   BLOB    NOT NULL CHECK (typeof(record) = 'blob')
) WITHOUT ROWID;
