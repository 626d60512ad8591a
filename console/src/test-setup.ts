// Testing Library unmounts after each test only when the runner exposes `afterEach` globally; Vitest does not
// by default, so it is done here.
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => {
  cleanup();
  localStorage.clear();
  window.location.hash = '';
});
