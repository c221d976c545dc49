"""Who may do what: bearer tokens and console sessions, passwords, the role matrix and the rate
limits of the endpoints anyone can reach."""
