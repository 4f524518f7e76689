// Sign-up, sign-out and sign-in in a real browser, with and without the wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, newPage, hydrated, signUp, signIn, signOut, uniqueEmail, PASSWORD } from './harness.mjs';

const env = serverAndBrowser();

test('sign up, sign out and sign in again', async () => {
  const page = await newPage(env.browser);
  const email = uniqueEmail('ada');
  await signUp(page, env.server.url, email);
  assert.equal(await page.getByTestId('signed-in-email').textContent(), email);
  assert.match(await page.getByTestId('current-workspace').textContent(), /ada\.[a-z0-9]+'s workspace/);
  const workspaceUrl = page.url();

  await signOut(page);
  // The dashboard is closed to a signed-out browser.
  await page.goto(workspaceUrl);
  await page.waitForURL(/\/signin\?next=/);

  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(workspaceUrl);
  assert.deepEqual(page.errors, []);
});

test('a wrong password is reported next to the field', async () => {
  const page = await newPage(env.browser);
  const email = uniqueEmail('bea');
  await signUp(page, env.server.url, email);
  await signOut(page);
  await signIn(page, env.server.url, email, 'not my password at all');
  const error = page.getByTestId('field-error');
  await error.waitFor();
  assert.match(await error.textContent(), /do not match an account/);
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  assert.match(page.url(), /\/signin$/);
});

test('sign-up explains a short password', async () => {
  const page = await newPage(env.browser);
  await page.goto(`${env.server.url}/signup`);
  await hydrated(page);
  await page.getByLabel('Email').fill(uniqueEmail('cyd'));
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Use at least 12 characters.').waitFor();
});

test('forms work before the wasm loads (JavaScript off)', async () => {
  const page = await newPage(env.browser, { javaScriptEnabled: false });
  const email = uniqueEmail('dot');
  await page.goto(`${env.server.url}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Use at least 12 characters.').waitFor();

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/w\/[a-z0-9-]+$/);
  assert.equal(await page.getByTestId('signed-in-email').textContent(), email);
});
