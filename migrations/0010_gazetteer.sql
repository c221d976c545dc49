-- The gazetteer: named places and road intersections with coordinates and a district, loaded by
-- an administrator (dispatch gazetteer import, PUT /api/v1/gazetteer) and passed into routing as
-- data to place tickets and to match duplicates by distance. ``key`` is the place's address key
-- (routing.address.address_key of its name), so one place is one row however it is spelled.
CREATE TABLE gazetteer (
    key         text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('intersection', 'place')),
    district    text NOT NULL REFERENCES districts (code),
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    aliases     text[] NOT NULL DEFAULT '{}',
    source      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
