"""The GCP provider: Compute Engine load balancers for Services and Ingresses."""
