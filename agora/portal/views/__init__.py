"""Server-rendered pages: the shopper shell, sign-in, the merchant, operator and government
consoles, and the floor-plan viewer. Views call selectors and services only."""
