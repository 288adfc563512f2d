"""Tests of the Compute Engine fake, all through the real google-cloud-compute client."""
