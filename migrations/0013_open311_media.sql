-- Open311 GET requests shows each request's media_url, which lives in the request's
-- ticket.service_request event. Finding that event among all of a listed ticket's events
-- (about six each) read every event of the spec's page of 1,000: 6,600 pages, two thirds of
-- the list's reads. This index holds the ticket.service_request events alone (one per request
-- filed through Open311): one probe per listed ticket.
CREATE INDEX events_service_requests ON events (ticket_id, id) WHERE type = 'ticket.service_request';
