// The on-call page follows Airflow's own light/dark choice (its UI keeps it in this origin's
// localStorage), else the system's. Loaded before the page renders: no flash of the other theme.
(function () {
  var chosen = null;
  try { chosen = localStorage.getItem("chakra-ui-color-mode"); } catch (e) {}
  if (chosen !== "light" && chosen !== "dark") {
    chosen = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.dataset.theme = chosen;
})();
