// Runs before the page paints: apply the reader's light/dark choice, so a
// dark page never flashes white. No choice stored: follow the system.
"use strict";
// Styles for what site.js adds (the folded phone menu) apply from the start.
document.documentElement.classList.add("js");
try {
  const chosen = localStorage.getItem("quire-theme");
  if (chosen === "light" || chosen === "dark") document.documentElement.dataset.theme = chosen;
} catch (_) {
  /* storage blocked: follow the system */
}
