import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Built into console/dist and served by the server at /console under a strict CSP
// (script-src 'self'): no inline scripts, so the module-preload polyfill stays out of the HTML.
export default defineConfig({
  root: "console",
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1200,
  },
});
