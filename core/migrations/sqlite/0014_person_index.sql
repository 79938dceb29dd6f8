-- FHIR import (issue 8): patients without SNILS or OMS policy are matched by name and birth
-- date. The keyed blind index of (surname, given name, birth date), folded as the directory
-- folds names (case, ё/е), lets the import find them without decrypting anyone.
ALTER TABLE patients ADD COLUMN person_bidx BLOB;
CREATE INDEX patients_person_bidx ON patients (person_bidx);
