"""`opencx demo` as a newcomer finds it: a contact center that moves by itself. The
printout says so and how to turn it off; simulated customers' contacts arrive on the
written channels and simulated agents, marked as such in the cockpit, handle them;
a person's own chat is offered to the printed agent login, never to a robot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.browsing import browser as browser  # a fixture
from tests.e2e.conftest import LiveServers, OpencxEnv, RunOpencx, wait_for
from tests.e2e.test_cockpit import sign_in
from tests.e2e.test_demo import ADMIN, AGENT, bearer, demo_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

SUPERVISOR = "supervisor@demo.opencx.dev"
DEMO_PASSWORD = "opencx-demo"
#: Twenty times real time: a contact a second or so on the five channels together.
FAST = {"DEMO__SPEED": "20", "DEMO__CONTACTS_PER_MINUTE": "0.6", "DEMO__SEED": "176"}


def test_the_demo_is_alive_and_its_robots_never_take_a_persons_contact(
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
    browser: Any,
    tmp_path: Path,
) -> None:
    env = demo_env(opencx_env, **FAST)
    server = live_servers.start(env, name="demo", command=("demo", "--customers", "0"))
    printed = server.output()
    assert "Simulation" in printed
    assert "--no-simulation" in printed
    admin, agent = bearer(run_opencx, env, ADMIN), bearer(run_opencx, env, AGENT)

    with httpx.Client(base_url=server.url, timeout=10) as http:

        def simulated_agents() -> list[dict[str, Any]]:
            users = http.get("/api/v1/users", params={"limit": 200}, headers=admin).json()
            return [u for u in users["items"] if u["simulated"]]

        robots = simulated_agents()
        assert len(robots) == 6
        wait_for(lambda: {u["presence"] for u in simulated_agents()} & {"available"}, 30)

        started = http.post(
            "/chat/widgets/vigilo-web/chats",
            json={"name": "Real Person", "email": "real@example.org", "intent": "It beeps"},
        )
        assert started.status_code == 201, started.text
        mine = started.json()["conversation_id"]

        def answered_by_robot() -> list[dict[str, Any]] | None:
            page = http.get(
                "/api/v1/reservations", params={"state": "completed", "limit": 200}, headers=admin
            ).json()["items"]
            robot_ids = {u["id"] for u in robots}
            done = [r for r in page if r["worker_id"] in robot_ids]
            return done or None

        wait_for(answered_by_robot, 60)

        def offers_of_mine() -> set[int]:
            reservations = http.get(
                "/api/v1/reservations", params={"limit": 200}, headers=admin
            ).json()["items"]
            tasks = http.get("/api/v1/tasks", params={"limit": 200}, headers=admin).json()
            my_tasks = {
                t["id"] for t in tasks["items"] if t["attributes"].get("conversation_id") == mine
            }
            return {r["worker_id"] for r in reservations if r["task_id"] in my_tasks}

        me = http.get("/api/v1/users/me", headers=agent).json()
        # The printed login stays available though nobody answered its offers yet; its
        # room may be taken by simulated offers for an offer's timeout (20 s).
        assert wait_for(offers_of_mine, 45) == {me["id"]}

    cockpit = sign_in(browser, server, SUPERVISOR, password=DEMO_PASSWORD)
    agents = cockpit.get_by_role("table", name="Agents")
    badges = agents.locator(".sim-badge")
    badges.first.wait_for()
    assert badges.count() == 6
    assert badges.first.inner_text() == "Simulated"
    cockpit.screenshot(path=str(tmp_path / "demo-cockpit-en.png"), full_page=True)
    french = sign_in(browser, server, SUPERVISOR, locale="fr", password=DEMO_PASSWORD)
    french.get_by_role("table", name="Conseillers").locator(".sim-badge").first.wait_for()
    assert french.locator(".sim-badge").first.inner_text() == "Simulé"
    french.screenshot(path=str(tmp_path / "demo-cockpit-fr.png"), full_page=True)
