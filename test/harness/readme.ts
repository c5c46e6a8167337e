// The README as checked by the tests and rewritten by `npm run docs`: its configuration table comes from the code, its
// supported-releases line from the last full bench:versions run.
import * as fs from "node:fs";
import * as path from "node:path";
import { withConfigTable } from "../../components/config/table";
import { readVersionRows, withSupportedLine } from "../../bench/versions/supported";
import { ROOT } from "./paths";

export const README = path.join(ROOT, "README.md");

export const readme = () => fs.readFileSync(README, "utf8");

if (require.main === module) {
    fs.writeFileSync(README, withSupportedLine(withConfigTable(readme()), readVersionRows()));
    console.log(`${README}: configuration table and supported-releases line written`);
}
