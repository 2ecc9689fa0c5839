"""The demo's simulation: simulated customers and agents keep ``opencx demo`` alive."""

from opencx.features.demo.service import DemoSimulation, demo_simulation_service

__all__ = ["DemoSimulation", "demo_simulation_service"]
