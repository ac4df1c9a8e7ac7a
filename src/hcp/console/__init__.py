"""The web console (`hcp console`): hosted clusters and NodePools in a browser, through the user's own API rights."""
