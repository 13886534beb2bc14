// Build step: writes dist/cli.js, the `oomdoctor` executable that package.json's bin names.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const target = join(__dirname, '..', '..', 'cli.js');
writeFileSync(target, "#!/usr/bin/env node\n'use strict';\nrequire('./src/cli.js').main();\n");
chmodSync(target, 0o755);
