//! The message catalog: code → (Russian, English).

/// Every code with its Russian and English text.
pub const CODES: &[(&str, &str, &str)] = &[
    ("validation", "Неверное значение поля", "Invalid field value"),
    ("not_found", "Не найдено", "Not found"),
    (
        "patient.exists",
        "Пациент с такими данными уже зарегистрирован",
        "A patient with these details is already registered",
    ),
    (
        "crypto.integrity",
        "Данные повреждены или изменены: проверка целостности не пройдена",
        "Data is damaged or altered: integrity check failed",
    ),
    ("crypto.key_destroyed", "Ключ данных удалён: данные стёрты", "The data key was destroyed: the data is erased"),
    ("crypto.key_unavailable", "Ключ шифрования недоступен или неверен", "The encryption key is unavailable or wrong"),
    ("crypto.key_file", "Файл ключей недоступен или повреждён", "The key file is unreadable or damaged"),
    (
        "crypto.rotation_unsupported",
        "Этот поставщик ключей не поддерживает ротацию",
        "This key provider does not support rotation",
    ),
    ("crypto.internal", "Внутренняя ошибка криптографии", "Internal cryptography error"),
    ("storage.unavailable", "База данных недоступна", "The database is unavailable"),
    ("storage.migration", "Не удалось обновить схему базы данных", "Could not migrate the database schema"),
    ("storage.query", "Ошибка базы данных", "Database error"),
    (
        "storage.corrupt",
        "Данные в базе не соответствуют ожидаемому формату",
        "Stored data does not have the expected shape",
    ),
    ("config.url", "Неверный адрес базы данных", "Invalid database URL"),
    (
        "config.key_provider_required",
        "Для этой базы данных нужен поставщик ключей",
        "This database needs a key provider",
    ),
    ("config.locale", "Неподдерживаемый язык", "Unsupported language"),
    ("config.argon2", "Неверные параметры хеширования паролей", "Invalid password hashing parameters"),
    ("audit.bad_signature", "Подпись журнала не прошла проверку", "The journal signature does not verify"),
    (
        "audit.bad_proof",
        "Доказательство не сходится с подписанным корнем журнала",
        "The proof does not lead to the signed journal root",
    ),
    ("audit.malformed", "Ключ или доказательство имеют неверный формат", "The key or proof is malformed"),
    ("audit.out_of_range", "Такой позиции в журнале нет", "No such position in the journal"),
    ("who.you", "вы", "you"),
    ("who.patient", "пациент", "patient"),
    ("who.staff", "сотрудник медорганизации", "clinic staff"),
    ("who.proxy", "ваш представитель", "your representative"),
    ("who.system", "система", "system"),
    ("who.anonymous", "неизвестный", "unknown"),
    ("entity.patient", "пациент", "patient"),
    ("entity.data_key", "ключ данных", "data key"),
    // Validation reasons (R21, R1).
    ("reason.empty", "значение не указано", "value is missing"),
    ("reason.length", "неверная длина", "wrong length"),
    ("reason.not_digits", "допустимы только цифры", "only digits are allowed"),
    ("reason.checksum", "не сходится контрольное число", "check digit does not match"),
    ("reason.format", "неверный формат", "wrong format"),
    ("reason.not_mobile", "номер не является мобильным номером России", "not a Russian mobile number"),
    ("reason.country", "номер не российский", "not a Russian number"),
    ("reason.future", "дата в будущем", "date is in the future"),
    ("reason.too_long", "слишком длинное значение", "value is too long"),
    ("reason.unknown_value", "недопустимое значение", "value is not allowed"),
    // Field names.
    ("field.snils", "СНИЛС", "SNILS"),
    ("field.inn", "ИНН", "INN"),
    ("field.enp", "Полис ОМС (ЕНП)", "OMS policy (ENP)"),
    ("field.passport", "Паспорт", "Passport"),
    ("field.phone", "Телефон", "Phone"),
    ("field.email", "Электронная почта", "E-mail"),
    ("field.surname", "Фамилия", "Surname"),
    ("field.given_name", "Имя", "Given name"),
    ("field.patronymic", "Отчество", "Patronymic"),
    ("field.birth_date", "Дата рождения", "Birth date"),
    ("field.sex", "Пол", "Sex"),
    ("field.locale", "Язык", "Language"),
];

/// Finds the texts of `code`.
pub(super) fn lookup(code: &str) -> Option<(&'static str, &'static str)> {
    CODES.iter().find(|(c, _, _)| *c == code).map(|(_, ru, en)| (*ru, *en))
}
