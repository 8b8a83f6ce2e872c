SELECT id FROM hs.export
