"""Routes of our admin API (`/admin/v1`): faults, zones, pushes, the device link."""
