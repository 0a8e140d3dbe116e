// Compiles the devnet contracts with the pinned solc-js and writes one artifact per contract:
// <outdir>/<Name>.json = {contractName, compiler, abi, bytecode, deployedBytecode}.
//
// Usage: node compile.js [outdir]   (default: ./artifacts)
//
// The output is reproducible: exact compiler version, fixed settings, sorted inputs, and no
// metadata hash in the bytecode (bytecodeHash "none"), so check.sh can compare byte for byte.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const EXPECTED_SOLC = '0.8.37';
// Contracts that get an artifact; other sources (libraries) are only compiled in.
const CONTRACTS = ['TestUSD', 'Multicall', 'TestWallet'];

function main() {
  const outDir = path.resolve(process.argv[2] || path.join(__dirname, 'artifacts'));
  const version = solc.version();
  if (!version.startsWith(EXPECTED_SOLC + '+')) {
    throw new Error(`solc ${EXPECTED_SOLC} required, found ${version} (run npm ci)`);
  }

  const sources = {};
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.sol')).sort()) {
    sources[file] = { content: fs.readFileSync(path.join(__dirname, file), 'utf8') };
  }

  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      metadata: { bytecodeHash: 'none' },
      outputSelection: {
        '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  let failed = false;
  for (const e of output.errors || []) {
    process.stderr.write((e.formattedMessage || e.message) + '\n');
    if (e.severity === 'error') failed = true;
  }
  if (failed) {
    throw new Error('compilation failed');
  }

  fs.mkdirSync(outDir, { recursive: true });
  for (const name of CONTRACTS) {
    const c = output.contracts[`${name}.sol`] && output.contracts[`${name}.sol`][name];
    if (!c) throw new Error(`no output for ${name}`);
    const artifact = {
      contractName: name,
      compiler: { version, settings: { ...input.settings, outputSelection: undefined } },
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`compile.js: ${err.message}\n`);
  process.exit(1);
}
