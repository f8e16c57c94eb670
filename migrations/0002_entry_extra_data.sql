-- Data kept with an entry but outside its leaf: a certificate-transparency entry's chain (RFC 6962 extra_data).
ALTER TABLE entries ADD COLUMN extra_data bytea CHECK (length(extra_data) <= 1048576);
