// Drives the system Chromium through hintd's admin console for tests/console.rs.
//
//   node console.cjs PLAN.json
//
// The plan (written by the Rust test) names hintd, the admin key, the broken plugin, the
// failing webhook and its conversation, and where screenshots go. It prints `RESULT <json>`
// with what it saw and exits 0; any failure exits 1.
'use strict';
const fs = require('fs');
const path = require('path');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { chromium } = require(path.join(plan.node_modules, 'playwright-core'));

const result = { offHost: [], urls: [], steps: {} };

function loopback(url) {
  try {
    const u = new URL(url);
    return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || u.protocol === 'data:' || u.protocol === 'about:';
  } catch (e) {
    return url.startsWith('data:') || url.startsWith('about:') || url.startsWith('blob:');
  }
}

async function state(page, name) {
  try {
    await page.locator(`#state[data-state="${name}"]`).waitFor({ state: 'attached', timeout: 15000 });
  } catch (e) {
    const now = await page.locator('#state').getAttribute('data-state').catch(() => '?');
    const shown = await page.locator('body').innerText().catch(() => '?');
    throw new Error(`waiting for state ${name}: the console is in state ${now}: ${shown}`);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(plan.docs, `console-${name}.png`), fullPage: true });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: plan.chromium,
    args: ['--no-proxy-server', '--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 720 } });
  const page = await context.newPage();
  // Anything not on loopback is refused and reported: the console must need nothing else.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (loopback(url)) return route.continue();
    result.offHost.push(url);
    return route.abort();
  });
  const weight = { bytes: 0, requests: 0 };
  const bearers = new Set();
  page.on('request', (req) => {
    result.urls.push(req.url());
    const auth = req.headers()['authorization'];
    if (auth) bearers.add(auth);
  });
  page.on('requestfinished', async (req) => {
    if (!req.url().startsWith(plan.hintd + '/console')) return;
    try {
      const s = await req.sizes();
      weight.bytes += s.responseBodySize + s.responseHeadersSize;
      weight.requests += 1;
    } catch (e) { /* the page went away */ }
  });
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });

  // 1. Signed out: the sign-in form, focused.
  await page.goto(`${plan.hintd}/console`);
  await state(page, 'signedout');
  result.steps.signin = {
    focused: await page.evaluate(() => document.activeElement && document.activeElement.id),
  };
  result.steps.weight = Object.assign({}, weight);
  await shot(page, 'signin');

  // 2. A wrong key is refused and not kept.
  await page.locator('#key').fill('not-the-admin-key');
  await page.keyboard.press('Enter');
  await state(page, 'refused');
  result.steps.refused = {
    text: await page.locator('#state').innerText(),
    form_shown: await page.locator('#signin').isVisible(),
    stored: await page.evaluate(() => sessionStorage.length),
  };
  await shot(page, 'refused');

  // 3. The admin key, typed and submitted from the keyboard: the plugins page.
  await page.locator('#key').focus();
  await page.keyboard.type(plan.admin_key);
  await page.keyboard.press('Enter');
  await page.locator('#plugins tr[data-plugin]').first().waitFor({ timeout: 15000 });
  await state(page, 'ready');
  const broken = page.locator(`#plugins tr[data-plugin="${plan.broken}"]`);
  result.steps.plugins = {
    rows: await page.locator('#plugins tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.plugin, tr.dataset.status])),
    broken_error: await broken.locator('.load-error').innerText(),
    key_stored: await page.evaluate((k) => sessionStorage.getItem('hintd.console.key') === k, plan.admin_key),
    cookies: await page.evaluate(() => document.cookie),
  };
  await page.locator('#reload').click();
  await page.locator('#view[data-reloads]').waitFor({ state: 'attached', timeout: 15000 });
  result.steps.plugins.reloads_after = Number(await page.locator('#view').getAttribute('data-reloads'));
  // Two samples (the first view and the reload's answer): a sparkline for each loaded plugin.
  result.steps.plugins.sparklines = await page.locator('#plugins tr[data-plugin] svg.spark').evaluateAll((svgs) =>
    svgs.map((g) => [g.closest('tr').dataset.plugin, Number(g.dataset.points), g.querySelectorAll('polyline').length]));
  await shot(page, 'plugins');

  // 4. Webhooks: the failing one with its last error; a new one created from the console.
  await page.locator('nav a[data-page="webhooks"]').click();
  const failing = page.locator(`#webhooks tr[data-webhook="${plan.webhook}"]`);
  await failing.waitFor({ timeout: 15000 });
  await state(page, 'ready');
  result.steps.webhooks = { last_error: await failing.locator('.last-error').innerText() };
  await page.locator('#wh-new').click();
  await page.locator('#wh-name').fill('console-made');
  await page.locator('#wh-url').fill(plan.receiver_url);
  await page.locator('#wh-events').fill('inbox');
  await page.locator('#wh-create button[type="submit"]').click();
  await page.locator('#secret').waitFor({ timeout: 15000 });
  result.steps.webhooks.secret = await page.locator('#secret code').innerText();
  result.steps.webhooks.names = await page.locator('#webhooks tbody th').evaluateAll((ths) => ths.map((t) => t.firstChild.textContent));
  // Edit, rotate, disable, then delete the one just made.
  const made = () => page.locator('#webhooks tbody tr', { hasText: 'console-' });
  await made().locator('[data-action="edit"]').click();
  await page.locator('#wh-name').fill('console-edited');
  await page.locator('#wh-edit button[type="submit"]').click();
  await page.locator('#webhooks tbody tr', { hasText: 'console-edited' }).waitFor({ timeout: 15000 });
  result.steps.webhooks.edited = await made().locator('th').evaluate((th) => th.firstChild.textContent);
  await made().locator('[data-action="rotate-secret"]').click();
  await page.waitForFunction((old) => {
    const code = document.querySelector('#secret code');
    return code !== null && code.textContent !== old;
  }, result.steps.webhooks.secret, { timeout: 15000 });
  result.steps.webhooks.rotated = await page.locator('#secret code').innerText();
  await made().locator('[data-action="disable"]').click();
  await made().locator('.badge.disabled').waitFor({ timeout: 15000 });
  result.steps.webhooks.disabled = true;
  await made().locator('[data-action="delete"]').click();
  await made().waitFor({ state: 'detached', timeout: 15000 });
  result.steps.webhooks.deleted = true;

  // 5. The failing webhook's deliveries: its failed message resent, the new attempt shown.
  await failing.locator('[data-action="attempts"]').click();
  const message = page.locator(`#messages tr[data-message="${plan.message}"]`);
  await message.waitFor({ timeout: 15000 });
  const attemptsBefore = await page.locator('#attempts tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.attempt)));
  result.steps.resend = { status_before: await message.getAttribute('data-status'), attempts_before: attemptsBefore };
  await message.locator('[data-action="resend"]').click();
  const newest = Math.max.apply(null, attemptsBefore);
  await page.waitForFunction((n) => Array.prototype.some.call(document.querySelectorAll('#attempts tbody tr'),
    (tr) => Number(tr.dataset.attempt) > n), newest, { timeout: 20000 });
  result.steps.resend.attempts_after = await page.locator('#attempts tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    id: Number(tr.dataset.attempt), outcome: tr.dataset.outcome, http: tr.children[6].textContent, message: tr.children[1].textContent,
  })));

  // Recover since an hour ago: the failed message is queued again and its third attempt shows.
  const hourAgo = await page.evaluate(() => {
    const d = new Date(Date.now() - 3600 * 1000);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  });
  await page.locator('#recover-since').fill(hourAgo);
  await page.locator('#recover button[type="submit"]').click();
  await page.locator('#recovered').filter({ hasText: 'queued again' }).waitFor({ timeout: 15000 });
  result.steps.recover = { said: await page.locator('#recovered').innerText() };
  await page.waitForFunction(() => document.querySelectorAll('#attempts tbody tr').length >= 3, null, { timeout: 20000 });
  result.steps.recover.attempts = await page.locator('#attempts tbody tr').count();
  await shot(page, 'webhooks');

  // 6. Hints: acceptance per plugin and the chosen-position histogram.
  await page.locator('nav a[data-page="hints"]').click();
  await page.locator('#acceptance-table').waitFor({ timeout: 15000 });
  await state(page, 'ready');
  result.steps.hints = {
    acceptance: await page.locator('#acceptance').innerText(),
    plugins: await page.locator('#acceptance-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.plugin)),
    bars: await page.locator('#positions rect').evaluateAll((rs) => rs.map((r) => [Number(r.dataset.position), Number(r.dataset.choices)])),
  };
  // Each called plugin's latency: median, 99th percentile and slowest call.
  await page.locator('#latency-table tbody tr').first().waitFor({ timeout: 15000 });
  result.steps.hints.latency = await page.locator('#latency-table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [tr.dataset.plugin].concat(Array.from(tr.querySelectorAll('td')).map((td) => td.textContent))));
  // The acceptance-over-time chart: a path per plugin, per hour and per day.
  // A single bucket draws a point-sized path (its dot shows it): attached, not visible.
  await page.locator('#series-chart svg path[data-plugin]').first().waitFor({ state: 'attached', timeout: 15000 });
  result.steps.hints.series_hour = await page.locator('#series-chart svg path[data-plugin]').evaluateAll((ps) => ps.map((p) => p.dataset.plugin));
  await page.locator('#series-bucket button[data-bucket="day"]').click();
  await page.waitForFunction(() => document.querySelector('#series-bucket button[data-bucket="day"]').getAttribute('aria-pressed') === 'true'
    && document.querySelector('#series-chart svg') !== null && document.querySelector('#series-chart svg').getAttribute('aria-label').startsWith('acceptance per day'), null, { timeout: 15000 });
  result.steps.hints.series_day = await page.locator('#series-chart svg path[data-plugin]').evaluateAll((ps) => ps.map((p) => p.dataset.plugin));
  await page.locator('#series-bucket button[data-bucket="hour"]').click();
  await page.waitForFunction(() => document.querySelector('#series-chart svg') !== null
    && document.querySelector('#series-chart svg').getAttribute('aria-label').startsWith('acceptance per hour'), null, { timeout: 15000 });
  await shot(page, 'hints');

  // 7. Conversations: one dialog opened from the form, its messages and its context.
  await page.locator('nav a[data-page="conversations"]').click();
  await page.locator('#conv-open').waitFor({ timeout: 15000 });
  // The browse list, newest first; the test's dialog is opened by clicking its row.
  await page.locator('#browse-list tbody tr').first().waitFor({ timeout: 15000 });
  const browsed = await page.locator('#browse-list tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.source, tr.dataset.account, tr.dataset.dialog]));
  await shot(page, 'conversations');
  await page.locator(`#browse-list tbody tr[data-dialog="${plan.conversation.dialog}"] a[data-action="open"]`).click();
  await page.locator('#conversation #messages li').first().waitFor({ timeout: 15000 });
  result.steps.conversation = {
    browsed,
    opened: await page.evaluate(() => location.hash),
    messages: await page.locator('#conversation #messages .text').allInnerTexts(),
    context: await page.locator('#conversation #context .text').allInnerTexts(),
  };
  // An unknown dialog: the error state with hintd's message.
  await page.locator('#conv-dialog').fill('no-such-dialog');
  await page.locator('#conv-open button[type="submit"]').click();
  await state(page, 'error');
  result.steps.conversation.unknown = await page.locator('#state').innerText();

  // 7b. Playground: a typed dialogue run through the plugins; faq's hint in its own column
  // and in the merged answer, with the merge's decisions.
  await page.locator('nav a[data-page="playground"]').click();
  await page.locator('#playground').waitFor({ timeout: 15000 });
  await state(page, 'ready');
  await page.locator('#play-dialogue').fill(plan.playground.join('\n'));
  await page.locator('#play-run').click();
  await page.locator('#play-merged li').first().waitFor({ timeout: 15000 });
  await state(page, 'ready');
  result.steps.playground = {
    columns: await page.locator('#play-plugins-out .column').evaluateAll((cs) => cs.map((c) => [c.dataset.plugin, c.dataset.outcome])),
    faq: await page.locator('#play-plugins-out .column[data-plugin="faq"] .hints .text').allInnerTexts(),
    merged: await page.locator('#play-merged li').evaluateAll((lis) => lis.map((li) => [li.dataset.plugin, li.querySelector('.text').textContent])),
    verdicts: await page.locator('#play-decisions tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.verdict)),
  };
  await shot(page, 'playground');

  // 8. Keyboard: Tab from the page's start reaches the navigation.
  // A click on the (unfocusable) title moves the point Tab starts from to the page's top.
  await page.locator('.title').click();
  const tabbed = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    tabbed.push(await page.evaluate(() => document.activeElement.getAttribute('data-page') || document.activeElement.id || document.activeElement.tagName));
  }
  result.steps.keyboard = tabbed;

  // 9. Sign out: the key leaves the tab.
  await page.locator('#signout').click();
  await state(page, 'signedout');
  result.steps.signout = {
    stored: await page.evaluate(() => sessionStorage.length),
    form_shown: await page.locator('#signin').isVisible(),
  };

  // 10. A hintd with no plugins, webhooks or answers: every page says so.
  const empty = await context.newPage();
  await empty.route('**/*', (route) => {
    const url = route.request().url();
    if (loopback(url)) return route.continue();
    result.offHost.push(url);
    return route.abort();
  });
  await empty.goto(`${plan.empty_hintd}/console`);
  await state(empty, 'signedout');
  await empty.locator('#key').fill(plan.admin_key);
  await empty.keyboard.press('Enter');
  result.steps.empty = {};
  for (const name of ['plugins', 'webhooks', 'hints']) {
    await empty.locator(`nav a[data-page="${name}"]`).click();
    await empty.locator(`html[data-page="${name}"]`).waitFor({ state: 'attached', timeout: 15000 });
    await state(empty, 'empty');
    result.steps.empty[name] = await empty.locator('#state').innerText();
    if (name === 'webhooks') await shot(empty, 'empty');
  }

  // 11. A slow answer shows the loading state; a network failure, the unreachable one.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await empty.route('**/api/v1/plugins', async (route) => { await held; return route.continue(); });
  await empty.locator('nav a[data-page="plugins"]').click();
  await state(empty, 'loading');
  result.steps.loading = await empty.locator('#state').innerText();
  release();
  await state(empty, 'empty');
  await empty.unroute('**/api/v1/plugins');
  await empty.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
  await empty.locator('nav a[data-page="webhooks"]').click();
  await state(empty, 'unreachable');
  result.steps.unreachable = await empty.locator('#state').innerText();

  result.bearers = Array.from(bearers);
  result.dialogs = dialogs;
  await browser.close();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  process.stderr.write(`console.cjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
