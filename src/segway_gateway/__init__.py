"""segway-gateway: the Segway fleet IoT API (e-bike C80), served, simulated and called."""
