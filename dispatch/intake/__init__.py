"""How a ticket is filed: ``new_ticket`` (what a channel hands over), ``decision`` (the router
proposes, the choices given win), ``filing`` (the one way every channel files a ticket)."""
