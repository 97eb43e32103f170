/**
 * htm bound to Preact: the console's templates are tagged template literals, so the browser runs
 * them as they are, without a build. Preact sets text as text: nothing in a template becomes markup.
 */
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
