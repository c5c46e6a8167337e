// The README as checked by the tests and rewritten by `npm run docs`: its configuration table comes from the code.
import * as fs from "node:fs";
import * as path from "node:path";
import { withConfigTable } from "../../components/config/table";
import { ROOT } from "./paths";

export const README = path.join(ROOT, "README.md");

export const readme = () => fs.readFileSync(README, "utf8");

if (require.main === module) {
    fs.writeFileSync(README, withConfigTable(readme()));
    console.log(`${README}: configuration table written`);
}
