"""The Rubin/LSST half of the ingest: what differs from ZTF (read, validate, rows, write,
statistics); the night's steps (plan → prepare → write → statistics) are ``ingest.night``'s."""
