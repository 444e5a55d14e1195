/**
 * @param {number} name
 * @param {boolean} upper
 * @returns {string}
 */
function initials(name, upper) {
  return String(name);
}

/**
 * @param {string} text
 * @returns {string}
 */
function count(text) {
  return String(text.split(' ').length);
}

export const tidy = { initials, count };
