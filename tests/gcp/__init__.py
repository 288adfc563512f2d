"""Tests of the GCP provider and its Compute Engine fake."""
