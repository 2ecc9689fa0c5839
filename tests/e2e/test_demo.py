"""The README's first command, as a newcomer runs it: `opencx demo` in an empty
directory, then the API read with a token from `opencx token create`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import LiveServers, OpencxEnv, RunOpencx

pytestmark = pytest.mark.e2e


def test_demo_serves_seeded_company_readable_with_a_cli_token(
    live_servers: LiveServers, opencx_env: OpencxEnv, run_opencx: RunOpencx, tmp_path: Path
) -> None:
    env = opencx_env("unused")
    del env["OPENCX_DATABASE__URL"]  # the demo uses ./opencx.db of the current directory
    server = live_servers.start(env, name="demo", command=("demo", "--customers", "12"))
    assert (tmp_path / "opencx.db").exists()
    printed = server.output()
    assert "admin@demo.opencx.dev" in printed
    assert "/api/v1/docs" in printed
    assert "/chat/try/vigilo-web" in printed

    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        assert http.get("/readyz").json() == {"status": "ok", "database": "ok"}
        assert http.get("/api/v1/openapi.json").json()["info"]["title"] == "OpenCX API"
        assert http.get("/api/v1/customers").status_code == 401
        try_page = http.get("/chat/try/vigilo-web", params={"lang": "fr"})
        assert try_page.status_code == 200
        assert 'data-widget="vigilo-web"' in try_page.text
        widget = http.get("/chat/widgets/vigilo-web", params={"lang": "fr"}).json()
        assert widget["title"] == "Discuter avec Vigilo"

        token = run_opencx(["token", "create", "--user", "admin@demo.opencx.dev"], env)
        admin = {"Authorization": f"Bearer {token.strip().splitlines()[-1]}"}
        sites = http.get("/api/v1/sites", headers=admin).json()["items"]
        assert sorted(s["kind"] for s in sites) == ["internal", "partner", "partner", "partner"]
        customers = http.get("/api/v1/customers", params={"limit": 200}, headers=admin).json()
        assert len(customers["items"]) == 12
        users = http.get("/api/v1/users", params={"limit": 200}, headers=admin).json()["items"]
        agents = [u for u in users if u["role"] == "agent" and u["site_id"] is not None]
        assert len(agents) == 25
        assert {lang for a in agents for lang in a["languages"]} >= {
            "fr",
            "en",
            "es",
            "it",
            "nl",
            "pl",
            "de",
        }
        conversations = http.get(
            "/api/v1/conversations", params={"limit": 200}, headers=admin
        ).json()["items"]
        assert conversations
        timeline = http.get(
            f"/api/v1/conversations/{conversations[0]['id']}/timeline", headers=admin
        )
        assert timeline.status_code == 200
