// Build the web page into flowrag/api/static/ui (committed: users need no Node). build-info.json
// records a digest of every source and of the lockfile; a test recomputes it and fails when the
// committed build is older than its sources (run `npm ci && npm run build` in web/).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = join("..", "flowrag", "api", "static", "ui");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox115", "safari16"],
  outfile: join(out, "app.js"),
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync("src/style.css", join(out, "app.css"));
copyFileSync("index.html", join(out, "index.html"));

export function sourcesDigest() {
  const files = ["index.html", "package.json", "package-lock.json", "build.mjs", ...readdirSync("src").sort().map((f) => join("src", f))];
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(file.replaceAll("\\", "/") + "\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return { files: files.map((f) => f.replaceAll("\\", "/")), sha256: hash.digest("hex") };
}
writeFileSync(join(out, "build-info.json"), JSON.stringify(sourcesDigest(), null, 2) + "\n");
console.log(`built ${out}`);
