"""Many-person consent checks: identifier resolution, batch decisions and their audit."""
