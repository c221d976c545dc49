"""Open311 GeoReport v2: the service catalogue (our categories as services, with the extra
facts some of them need as attributes) and the JSON and XML renderings of the spec's
documents. The views are in ``dispatch/api/open311.py``; partners read docs/open311.md."""
