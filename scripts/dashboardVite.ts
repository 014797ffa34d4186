// The Vite configuration of the dashboard (web/): used by `npm run build` and, for working on the
// pages with live reload, `npx vite --config scripts/dashboardVite.ts` (proxies /api to a cqa on :8080).
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import type { InlineConfig } from "vite";

export const webDir = fileURLToPath(new URL("../web", import.meta.url));

/** Builds web/ into `outDir`: hashed assets under assets/, index.html at the top. */
export function dashboardViteConfig(outDir: string): InlineConfig {
  return {
    root: webDir,
    base: "/",
    configFile: false,
    logLevel: "warn",
    plugins: [react()],
    build: {
      outDir,
      emptyOutDir: true,
      target: "es2022",
      sourcemap: false,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 400,
    },
    server: {
      proxy: { "/api": "http://127.0.0.1:8080" },
    },
  };
}

export default dashboardViteConfig(fileURLToPath(new URL("../dist/dashboard", import.meta.url)));
