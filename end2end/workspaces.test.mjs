// Creating, switching and renaming workspaces, and what a member may and may not do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, newPage, hydrated, signUp, signIn, signOut, uniqueEmail } from './harness.mjs';

const env = serverAndBrowser();

async function createWorkspace(page, name) {
  await page.getByTestId('workspace-switcher').locator('summary').click();
  await page.getByRole('link', { name: '+ Create workspace' }).click();
  await page.waitForURL(/\/workspaces\/new$/);
  await hydrated(page);
  await page.getByLabel('Workspace name').fill(name);
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.waitForURL(/\/w\/[a-z0-9-]+$/);
  await hydrated(page);
}

test('create a second workspace and switch between them', async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('eli'));
  const personal = page.url();

  await createWorkspace(page, 'Acme Production');
  assert.equal(await page.getByTestId('current-workspace').textContent(), 'Acme Production');
  const acme = page.url();
  assert.notEqual(acme, personal);

  // Switch back through the header's switcher.
  await page.getByTestId('workspace-switcher').locator('summary').click();
  const switcher = page.getByTestId('workspace-switcher');
  await switcher.getByRole('link', { name: /'s workspace/ }).click();
  await page.waitForURL(personal);
  assert.match(await page.getByTestId('current-workspace').textContent(), /'s workspace/);

  // And rename the second one from its settings.
  await page.goto(`${acme}/settings`);
  await hydrated(page);
  await page.getByLabel('Workspace name').fill('Acme Staging');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByText('Saved.').waitFor();
  await page.reload();
  assert.equal(await page.getByTestId('current-workspace').textContent(), 'Acme Staging');
  assert.deepEqual(page.errors, []);
});

test('an owner adds a member, who can see but not change', async () => {
  const owner = await newPage(env.browser);
  const memberEmail = uniqueEmail('fox');
  const member = await newPage(env.browser);
  await signUp(member, env.server.url, memberEmail);

  await signUp(owner, env.server.url, uniqueEmail('gil'));
  await createWorkspace(owner, 'Shared Team');
  const shared = owner.url();
  await owner.goto(`${shared}/settings`);
  await hydrated(owner);
  await owner.getByRole('textbox', { name: 'Email' }).fill(memberEmail);
  await owner.getByLabel('Role', { exact: true }).selectOption('member');
  await owner.getByRole('button', { name: 'Add member' }).click();
  await owner.getByTestId('member-row').filter({ hasText: memberEmail }).waitFor();
  assert.equal(await owner.getByTestId('member-row').count(), 2);

  // The member now finds the workspace in the switcher, sees the members, and no controls.
  await member.reload();
  await hydrated(member);
  await member.getByTestId('workspace-switcher').locator('summary').click();
  await member.getByRole('link', { name: /Shared Team/ }).click();
  await member.waitForURL(shared);
  assert.equal(await member.getByTestId('overview-role').textContent(), 'Member');
  await member.getByRole('link', { name: 'Settings' }).first().click();
  await member.waitForURL(`${shared}/settings`);
  await member.getByTestId('member-list').waitFor();
  assert.equal(await member.getByTestId('member-row').count(), 2);
  assert.equal(await member.getByRole('button', { name: 'Change role' }).count(), 0);
  assert.equal(await member.getByRole('button', { name: 'Add member' }).count(), 0);
  await member.getByText('Only an owner can rename the workspace.').waitFor();

  // Even a hand-made request is refused by the server.
  const status = await member.evaluate(async (slug) => {
    const res = await fetch('/api/workspaces/rename', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ slug, name: 'Hijacked' }),
    });
    return res.status;
  }, shared.split('/w/')[1]);
  assert.equal(status, 403);
});

test('the audit log lists what happened and filters by kind', async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('aud'));
  const slug = new URL(page.url()).pathname.split('/')[2];
  await page.getByRole('link', { name: 'Audit log' }).first().click();
  await page.getByTestId('audit-empty').waitFor();
  const status = await page.evaluate(async (slug) => {
    const body = new URLSearchParams([['slug', slug], ['name', 'Nightly'], ['environment', 'live'], ['expiry', '30d'], ['scopes[]', 'runs:read']]);
    return (await fetch('/api/keys/create', { method: 'POST', body })).status;
  }, slug);
  assert.equal(status, 200);
  await page.reload();
  await hydrated(page);
  const row = page.getByTestId('audit-row').first();
  await row.waitFor();
  assert.match(await row.textContent(), /Created API key “Nightly” \(live\)/);
  await page.getByLabel('Kind').selectOption('member');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/kind=member/);
  await page.getByTestId('audit-empty').waitFor();
  assert.deepEqual(page.errors, []);
});

test('the dashboard fits a phone', async () => {
  const page = await newPage(env.browser, { viewport: { width: 375, height: 740 } });
  await signUp(page, env.server.url, uniqueEmail('ivy'));
  // The Overview's code and data arrive after the address changes; measure the page once shown.
  await page.getByRole('navigation', { name: 'Workspace', exact: true }).waitFor({ state: 'visible' });
  await page.getByTestId('overview-role').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
});

test('signing out from one page and back in keeps your workspaces', async () => {
  const page = await newPage(env.browser);
  const email = uniqueEmail('jay');
  await signUp(page, env.server.url, email);
  await createWorkspace(page, 'Second');
  await signOut(page);
  await signIn(page, env.server.url, email);
  await page.waitForURL(/\/w\//);
  await hydrated(page);
  await page.getByTestId('workspace-switcher').locator('summary').click();
  assert.equal(await page.getByTestId('workspace-switcher').getByRole('listitem').count(), 2);
});
