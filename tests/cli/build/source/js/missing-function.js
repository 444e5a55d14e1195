function initials(name, upper) {
  const letters = name.split(' ').map((w) => w[0]).join('');
  return upper ? letters.toUpperCase() : letters;
}

export const tidy = { initials };
