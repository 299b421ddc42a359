// chdb.js is the current-release side of make compat-check: it runs SQL on a current
// ClickHouse release embedded as a library (chdb), and compares answers of two servers.
//
//   node chdb.js run PKG DATA < statements.sql   run statements (each ends with ';' at the
//                                                end of a line); stop at the first error
//   node chdb.js each PKG DATA OUT FILE...       run each FILE (one statement), write its
//                                                answer (TabSeparated) to OUT/<name>.tsv
//   node chdb.js compare A B                     compare the .tsv answers in directories A
//                                                and B: rows in any order, numbers to 6
//                                                significant digits
//
// PKG is the unpacked npm package @chdb/lib-linux-x64-gnu, DATA the engine's data directory.
'use strict';
const fs = require('fs');
const path = require('path');

const [cmd, ...args] = process.argv.slice(2);

function open(pkg, data) {
  const chdb = require(path.resolve(pkg, 'index.js'));
  return { chdb, conn: chdb.CreateConnection(data) };
}

function query({ chdb, conn }, sql, where) {
  try {
    return chdb.QueryWithConnection(conn, sql, 'TabSeparated');
  } catch (e) {
    console.error(`${where} failed on ClickHouse ${chdb.EngineVersion()}: ${e.message}\n${sql}`);
    process.exit(1);
  }
}

const isComment = (s) => s.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('--'));

// normalize makes an answer comparable: numbers to 6 significant digits, rows sorted.
function normalize(text) {
  const num = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i;
  return text.split('\n').filter((l) => l !== '')
    .map((l) => l.split('\t').map((f) => (num.test(f) ? String(Number(Number(f).toPrecision(6))) : f)).join('\t'))
    .sort();
}

switch (cmd) {
  case 'run': {
    const db = open(args[0], args[1]);
    fs.readFileSync(0, 'utf8').split(/;[ \t]*\n/).map((s) => s.trim()).filter((s) => s && !isComment(s))
      .forEach((s, i) => query(db, s, `statement ${i + 1}`));
    break;
  }
  case 'each': {
    const [pkg, data, out, ...files] = args;
    const db = open(pkg, data);
    for (const f of files) {
      const sql = fs.readFileSync(f, 'utf8').trim().replace(/;$/, '');
      fs.writeFileSync(path.join(out, path.basename(f, '.sql') + '.tsv'), query(db, sql, f));
    }
    break;
  }
  case 'compare': {
    const [a, b] = args;
    let differ = 0;
    for (const f of fs.readdirSync(a).filter((n) => n.endsWith('.tsv')).sort()) {
      const x = normalize(fs.readFileSync(path.join(a, f), 'utf8'));
      const y = normalize(fs.readFileSync(path.join(b, f), 'utf8'));
      const same = x.length === y.length && x.every((l, i) => l === y[i]);
      console.log(`${same ? 'same     ' : 'DIFFERENT'} ${f} (${x.length} rows)`);
      if (!same) {
        differ++;
        const onlyA = x.filter((l) => !y.includes(l)).slice(0, 5);
        const onlyB = y.filter((l) => !x.includes(l)).slice(0, 5);
        onlyA.forEach((l) => console.log(`    ${path.basename(a)}: ${l}`));
        onlyB.forEach((l) => console.log(`    ${path.basename(b)}: ${l}`));
      }
    }
    process.exit(differ ? 1 : 0);
  }
  default:
    console.error('usage: node chdb.js run|each|compare ...');
    process.exit(2);
}
