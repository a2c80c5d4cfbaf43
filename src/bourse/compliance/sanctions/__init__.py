"""Sanctions lists: loaders for the official publications, one entry model for all of them."""
