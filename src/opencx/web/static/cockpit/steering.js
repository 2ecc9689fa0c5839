// Steering a site in one click: open, drain or close it for routing
// (POST /api/v1/sites/{id}/routing-state). The call returns once the router has
// taken the change in and moved the site's waiting contacts on, so the time it took is
// how long until new contacts go elsewhere; the row itself changes with the live
// view's site.changed event, like every supervisor's.

export function makeSteering({ api, i18n }) {
  const result = document.getElementById("steer-result");
  return async function steer(site, state) {
    const started = performance.now();
    result.classList.remove("failed");
    try {
      await api.post(`/sites/${site.id}/routing-state`, { state });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      result.textContent = i18n.t("steered", { site: site.name, state: i18n.t(`site_${state}`).toLocaleLowerCase(i18n.locale), seconds });
    } catch (failure) {
      result.classList.add("failed");
      result.textContent = i18n.t("steer_failed", { detail: failure.message });
    }
  };
}
