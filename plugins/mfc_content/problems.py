"""Problems found in content files, and the catalogue of their codes.

Every problem is printed as one line an editor can act on alone::

    content/news/2024/2024-05-17-priem.md:3: неизвестное свойство «titel» — …
    возможно, вы имели в виду «title» [E201]

The code in brackets names the section of EDITORS.md that explains the
problem; the test suite checks that every code has a section there and a
broken file under tests/broken/ that produces it.
"""

from __future__ import annotations

from dataclasses import dataclass

# code → the section title in EDITORS.md (Russian, as editors read it).
CODES = {
    # The file as a whole
    "E101": "Файл сохранён в кодировке windows-1251",
    "E102": "Файл не в кодировке UTF-8 или не текстовый",
    "E103": "Пустой файл",
    "E104": "Нет строки --- в начале файла",
    "E105": "Нет строки --- после свойств",
    "E106": "Ошибка в записи свойств (YAML)",
    "E107": "Табуляция в свойствах",
    "E108": "Свойства записаны не в виде «имя: значение»",
    "E109": "Свойство указано дважды",
    "E110": "Файл не будет прочитан: неподходящее расширение",
    "E111": "Файл лежит не в той папке",
    "E112": "Неправильное имя файла",
    "E113": "Дата в имени файла не совпадает с датой в свойствах",
    "E114": "Файл не удалось прочитать",
    "E115": "Нет файла контактов",
    # Properties (front matter)
    "E201": "Неизвестное свойство",
    "E202": "Не хватает обязательного свойства",
    "E203": "Пустое значение",
    "E204": "Значение не того вида",
    "E205": "Дата записана не в том формате",
    "E206": "Такой даты не бывает",
    "E207": "Дата слишком далеко в прошлом или будущем",
    "E208": "Дата изменения раньше даты публикации",
    "E209": "Неправильный адрес страницы (slug)",
    "E210": "Неизвестный статус",
    "E211": "Неправильная тема (tags)",
    "E212": "У картинки нет описания (alt)",
    "E213": "Описание есть, а картинки нет",
    "E214": "Неправильно записана фотогалерея",
    "E215": "HTML в свойствах",
    "E216": "Осталась заготовка из invoke new",
    "E217": "Неправильный номер телефона",
    "E218": "Неправильный адрес электронной почты",
    "E219": "Неправильные координаты",
    # Links and referenced files
    "E301": "Файл, на который ссылается текст, не найден",
    "E302": "Картинка не в той папке или не в том формате",
    "E303": "Картинка с другого сайта",
    "E304": "Ссылка, которая не откроется на сайте",
    "E305": "Ссылка на несуществующую страницу сайта",
    "E306": "Ссылка на неопубликованную новость",
    "E307": "«Как добраться» указывает не на страницу",
    # The text (body)
    "E401": "Нет текста",
    "E402": "Опасный HTML-тег",
    "E403": "HTML-атрибут с программой (on…)",
    "E404": "Опасная ссылка (javascript:)",
    "E405": "Заголовок первого уровня в тексте",
    "E406": "Список прилип к абзацу",
    # The site as a whole
    "E501": "Два файла с одним адресом",
    "E502": "Адрес страницы занят разделом сайта",
    # Anything unexpected
    "E199": "Непредвиденная ошибка при чтении файла",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file: where, what, and how to fix it."""

    path: str  # as the editor should see it, e.g. content/news/2024/….md
    line: int  # 1-based; 1 when the problem is about the whole file
    code: str
    message: str  # "что не так — как исправить", in Russian

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"unknown problem code {self.code}")

    def __str__(self) -> str:
        message = " ".join(self.message.splitlines())  # one problem, one line
        return f"{self.path}:{self.line}: {message} [{self.code}]"


class ContentError(Exception):
    """Content that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form for a count.

    >>> plural(1, "ошибка", "ошибки", "ошибок"), plural(3, "ошибка", "ошибки", "ошибок")
    ('ошибка', 'ошибки')
    >>> plural(11, "ошибка", "ошибки", "ошибок"), plural(25, "файл", "файла", "файлов")
    ('ошибок', 'файлов')
    """
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
