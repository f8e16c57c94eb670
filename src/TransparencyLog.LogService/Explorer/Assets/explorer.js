// Progressive enhancement only: every page works without this file. It adds a copy button for the verifier key and
// lets a PEM file fill the key-search box; it never sends anything itself.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener('click', async () => {
      await navigator.clipboard.writeText(source.value);
      button.textContent = 'Copied';
    });
  }
  for (const input of document.querySelectorAll('input[type="file"][data-fills]')) {
    const target = document.getElementById(input.dataset.fills);
    if (!target) continue;
    input.closest('.upload').hidden = false;
    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      if (file && file.size <= 6000) target.value = await file.text();
    });
  }
});
