"""The demo county: data and the seeder that drives cases through the real services."""
