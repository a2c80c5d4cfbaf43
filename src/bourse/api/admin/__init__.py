"""The operator/admin API (`/admin/v1/...`)."""
