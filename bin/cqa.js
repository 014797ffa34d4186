#!/usr/bin/env node
// The cqa command. Runs the TypeScript sources directly (Node >= 22.18 strips types natively).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `cqa needs Node.js 22.18 or newer (this is ${process.version}). ` +
      "Run it through npm (npm start, npx cqa), which uses the Node 24 installed with the project, or install Node 24.",
  );
  process.exit(1);
}
await import("../src/cli/main.ts");
