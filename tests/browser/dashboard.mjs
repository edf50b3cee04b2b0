// The built dashboard in headless Chromium, used as a person would: open a page, wait for its
// data, pick from a dropdown. Prints one JSON object of what the pages showed; tests/test_dashboard.py
// asserts on it against the warehouse. Screenshots go to the output directory.
//
//   node tests/browser/dashboard.mjs <base URL> <output dir> <cik> <fiscal year> <sector> <cik with a split>
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// playwright-core is a dev dependency of the dashboard (dashboards/package.json).
const { chromium } = createRequire(new URL('../../dashboards/package.json', import.meta.url))('playwright-core');
const [base, out, cik, fiscalYear, sector, splitCik] = process.argv.slice(2);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
	'--disable-component-update', '--no-first-run'];

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-')), {
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: FLAGS,
	viewport: { width: 1400, height: 1000 }
});
const page = context.pages()[0] ?? (await context.newPage());
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
// Everything the site needs is on localhost; anything else would fail offline.
page.on('request', (request) => {
	if (!request.url().startsWith(base) && !request.url().startsWith('data:')) problems.push(`outside request: ${request.url()}`);
});

async function open(path) {
	await page.goto(base + path, { waitUntil: 'networkidle' });
	// A table has rendered cells once its query ran in the browser (DuckDB-WASM over the Parquet);
	// its rows are built in the DOM, with no tbody.
	await page.waitForSelector('table td:visible', { timeout: 60_000 });
}

async function pick(title, option) {
	// Evidence's dropdown: a combobox labelled with its title opens a list of options.
	await page.getByRole('combobox', { name: title }).first().click();
	await page.keyboard.type(option); // its search box has the focus; it lists the first options only
	await page.locator(`[role=option][data-value="${option}"]`).first().click();
	await page.keyboard.press('Escape');
	await page.waitForLoadState('networkidle');
	await page.waitForTimeout(500);
}

const rowsOf = (index) =>
	page.$$eval('table', (all, i) => {
		const tables = all.filter((table) => table.offsetParent !== null);
		return [...tables[i].querySelectorAll('tr')].filter((tr) => tr.querySelector('td')).map((tr) => [...tr.querySelectorAll('td')].map((td) => ({
			text: td.innerText.trim(),
			href: td.querySelector('a')?.href ?? null
		})));
	}, index);

const result = {};

// A company: its statements for one fiscal year, each value linking to its filing.
await open(`/companies/${cik}`);
await pick('Fiscal year', fiscalYear);
result.company = {
	heading: await page.locator('h1').first().innerText(),
	statements: await rowsOf(0)
};
await page.screenshot({ path: join(out, 'company.png'), fullPage: true });

// A company whose price chart marks a split and dividends (ECharts draws on a canvas: a screenshot).
await open(`/companies/${splitCik}`);
await page.waitForTimeout(1000);
await page.screenshot({ path: join(out, 'company-split.png'), fullPage: true });

// The screener, all sectors, then one.
await open('/screener');
result.screener = { all: await rowsOf(0) };
await page.screenshot({ path: join(out, 'screener.png'), fullPage: true });
// Every sector is selected at first: deselect them all, then choose one.
await page.getByRole('combobox', { name: 'Sector' }).first().click();
await page.locator('[role=option][data-value="clear selection"]').first().click();
await page.locator(`[role=option][data-value="${sector}"]`).first().click();
await page.keyboard.press('Escape');
await page.waitForTimeout(1000);
result.screener.filtered = await rowsOf(0);
await page.screenshot({ path: join(out, 'screener-filtered.png'), fullPage: true });

await open('/sectors');
result.sectors = await rowsOf(0);
await page.screenshot({ path: join(out, 'sectors.png'), fullPage: true });

await open('/pipeline');
result.pipeline = { runs: await rowsOf(0), text: await page.locator('main, article, body').first().innerText() };
await page.screenshot({ path: join(out, 'pipeline.png'), fullPage: true });

result.problems = problems;
await context.close();
console.log(JSON.stringify(result));
