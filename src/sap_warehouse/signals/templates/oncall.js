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

// Data Docs open in a tab of their own when the page is its own tab; inside Airflow's view (a frame
// that may open no pop-ups) they open in the view, and the browser's "open in new tab" still works.
document.addEventListener("DOMContentLoaded", function () {
  if (window.top !== window) return;
  document.querySelectorAll("a.data-docs").forEach(function (link) {
    link.target = "_blank";
    link.rel = "noopener";
  });
});
