// The README and configuration doc as checked by the tests and rewritten by `npm run docs`: the doc's tables come from
// the code, the README's supported-releases line from the last full bench:versions run.
import * as fs from "node:fs";
import * as path from "node:path";
import { withConfigTable } from "../../components/config/table";
import { readVersionRows, withSupportedLine } from "../../bench/versions/supported";
import { ROOT } from "./paths";

export const README = path.join(ROOT, "README.md");

export const readme = () => fs.readFileSync(README, "utf8");
/** Every config key and pool field, written from the code. */
export const CONFIG_DOC = path.join(ROOT, "docs", "configuration.md");
export const configDoc = () => fs.readFileSync(CONFIG_DOC, "utf8");

if (require.main === module) {
    fs.writeFileSync(README, withSupportedLine(readme(), readVersionRows()));
    fs.writeFileSync(CONFIG_DOC, withConfigTable(configDoc()));
    console.log(`${README}: supported-releases line written; ${CONFIG_DOC}: configuration tables written`);
}
